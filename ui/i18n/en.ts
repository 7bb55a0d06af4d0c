<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US">
    <context>
        <name />
        <message>
            <source>Waiting</source>
            <translation>Waiting</translation>
        </message>
        <message>
            <source>Being seen</source>
            <translation>Being seen</translation>
        </message>
        <message>
            <source>Done</source>
            <translation>Done</translation>
        </message>
        <message>
            <source>Left</source>
            <translation>Left</translation>
        </message>
        <message>
            <source>Cancelled</source>
            <translation>Cancelled</translation>
        </message>
        <message>
            <source>Covered</source>
            <translation>Covered</translation>
        </message>
        <message>
            <source>Not covered</source>
            <translation>Not covered</translation>
        </message>
        <message>
            <source>Not verified</source>
            <translation>Not verified</translation>
        </message>
        <message>
            <source>Choose your name first.</source>
            <translation>Choose your name first.</translation>
        </message>
        <message>
            <source>That change is not possible for this visit.</source>
            <translation>That change is not possible for this visit.</translation>
        </message>
        <message>
            <source>That field cannot be corrected here.</source>
            <translation>That field cannot be corrected here.</translation>
        </message>
        <message>
            <source>The name cannot be empty.</source>
            <translation>The name cannot be empty.</translation>
        </message>
        <message>
            <source>Enter male or female.</source>
            <translation>Enter male or female.</translation>
        </message>
        <message>
            <source>Choose a visit first.</source>
            <translation>Choose a visit first.</translation>
        </message>
        <message>
            <source>Choose a service.</source>
            <translation>Choose a service.</translation>
        </message>
        <message>
            <source>Only an administrator can do this.</source>
            <translation>Only an administrator can do this.</translation>
        </message>
        <message>
            <source>A PIN is 4 to 8 digits.</source>
            <translation>A PIN is 4 to 8 digits.</translation>
        </message>
        <message>
            <source>An ID number is 12 digits.</source>
            <translation>An ID number is 12 digits.</translation>
        </message>
        <message>
            <source>This ID number already has an account.</source>
            <translation>This ID number already has an account.</translation>
        </message>
        <message>
            <source>You cannot disable your own account.</source>
            <translation>You cannot disable your own account.</translation>
        </message>
        <message>
            <source>Enter the date as yyyy-mm-dd.</source>
            <translation>Enter the date as yyyy-mm-dd.</translation>
        </message>
        <message>
            <source>The ID number must be 12 digits.</source>
            <translation>The ID number must be 12 digits.</translation>
        </message>
        <message>
            <source>The health-insurance number must be 15 characters or 10 digits.</source>
            <translation>The health-insurance number must be 15 characters or 10 digits.</translation>
        </message>
        <message>
            <source>The passport number must be 6 to 9 letters or digits.</source>
            <translation>The passport number must be 6 to 9 letters or digits.</translation>
        </message>
        <message>
            <source>The nationality must be a 3-letter code, e.g. FRA.</source>
            <translation>The nationality must be a 3-letter code, e.g. FRA.</translation>
        </message>
        <message>
            <source>Enter the name as on the card (letters only).</source>
            <translation>Enter the name as on the card (letters only).</translation>
        </message>
        <message>
            <source>Enter the date of birth as dd/mm/yyyy.</source>
            <translation>Enter the date of birth as dd/mm/yyyy.</translation>
        </message>
        <message>
            <source>Choose the sex.</source>
            <translation>Choose the sex.</translation>
        </message>
        <message>
            <source>Scanned again with another name or birth date: check the ID card</source>
            <translation>Scanned again with another name or birth date: check the ID card</translation>
        </message>
        <message>
            <source>The chip failed its clone check: check the ID card</source>
            <translation>The chip failed its clone check: check the ID card</translation>
        </message>
        <message>
            <source>The chip data did not verify: check the ID card</source>
            <translation>The chip data did not verify: check the ID card</translation>
        </message>
        <message>
            <source>Receptionist sign-in</source>
            <translation>Receptionist sign-in</translation>
        </message>
        <message>
            <source>Clear</source>
            <translation>Clear</translation>
        </message>
        <message>
            <source>Sign in</source>
            <translation>Sign in</translation>
        </message>
        <message>
            <source>Search by name, ID or number</source>
            <translation>Search by name, ID or number</translation>
        </message>
        <message>
            <source>Search</source>
            <translation>Search</translation>
        </message>
        <message>
            <source>No.</source>
            <translation>No.</translation>
        </message>
        <message>
            <source>State</source>
            <translation>State</translation>
        </message>
        <message>
            <source>Name</source>
            <translation>Name</translation>
        </message>
        <message>
            <source>ID</source>
            <translation>ID</translation>
        </message>
        <message>
            <source>Services</source>
            <translation>Services</translation>
        </message>
        <message>
            <source>Insurance</source>
            <translation>Insurance</translation>
        </message>
        <message>
            <source>Face check</source>
            <translation>Face check</translation>
        </message>
        <message>
            <source>Call next</source>
            <translation>Call next</translation>
        </message>
        <message>
            <source>Cancel visit</source>
            <translation>Cancel visit</translation>
        </message>
        <message>
            <source>Back to waiting</source>
            <translation>Back to waiting</translation>
        </message>
        <message>
            <source>Correct</source>
            <translation>Correct</translation>
        </message>
        <message>
            <source>Add service</source>
            <translation>Add service</translation>
        </message>
        <message>
            <source>Reprint</source>
            <translation>Reprint</translation>
        </message>
        <message>
            <source>Save</source>
            <translation>Save</translation>
        </message>
        <message>
            <source>Close</source>
            <translation>Close</translation>
        </message>
        <message>
            <source>ID number (CCCD)</source>
            <translation>ID number (CCCD)</translation>
        </message>
        <message>
            <source>Health-insurance number</source>
            <translation>Health-insurance number</translation>
        </message>
        <message>
            <source>Passport (foreigner)</source>
            <translation>Passport (foreigner)</translation>
        </message>
        <message>
            <source>Manual check-in (card could not be read)</source>
            <translation>Manual check-in (card could not be read)</translation>
        </message>
        <message>
            <source>Number</source>
            <translation>Number</translation>
        </message>
        <message>
            <source>Full name</source>
            <translation>Full name</translation>
        </message>
        <message>
            <source>Date of birth dd/mm/yyyy</source>
            <translation>Date of birth dd/mm/yyyy</translation>
        </message>
        <message>
            <source>Nationality (e.g. FRA)</source>
            <translation>Nationality (e.g. FRA)</translation>
        </message>
        <message>
            <source>Check in and print ticket</source>
            <translation>Check in and print ticket</translation>
        </message>
        <message>
            <source>Deadline</source>
            <translation>Deadline</translation>
        </message>
        <message>
            <source>Time left</source>
            <translation>Time left</translation>
        </message>
        <message>
            <source>Visit</source>
            <translation>Visit</translation>
        </message>
        <message>
            <source>Queue no.</source>
            <translation>Queue no.</translation>
        </message>
        <message>
            <source>Reason for the stay</source>
            <translation>Reason for the stay</translation>
        </message>
        <message>
            <source>From dd/mm/yyyy hh:mm (empty: now)</source>
            <translation>From dd/mm/yyyy hh:mm (empty: now)</translation>
        </message>
        <message>
            <source>Until dd/mm/yyyy hh:mm (optional)</source>
            <translation>Until dd/mm/yyyy hh:mm (optional)</translation>
        </message>
        <message>
            <source>Passport no. (foreigner)</source>
            <translation>Passport no. (foreigner)</translation>
        </message>
        <message>
            <source>Start stay</source>
            <translation>Start stay</translation>
        </message>
        <message>
            <source>Receipt number of a hand submission</source>
            <translation>Receipt number of a hand submission</translation>
        </message>
        <message>
            <source>Record receipt</source>
            <translation>Record receipt</translation>
        </message>
        <message>
            <source>Chip card reader</source>
            <translation>Chip card reader</translation>
        </message>
        <message>
            <source>QR scanner</source>
            <translation>QR scanner</translation>
        </message>
        <message>
            <source>Camera</source>
            <translation>Camera</translation>
        </message>
        <message>
            <source>Ticket printer</source>
            <translation>Ticket printer</translation>
        </message>
        <message>
            <source>Unknown</source>
            <translation>Unknown</translation>
        </message>
        <message>
            <source>Re-check pending insurance online</source>
            <translation>Re-check pending insurance online</translation>
        </message>
        <message>
            <source>Refresh</source>
            <translation>Refresh</translation>
        </message>
        <message>
            <source>End of day</source>
            <translation>End of day</translation>
        </message>
        <message>
            <source>Export today's list (CSV)</source>
            <translation>Export today's list (CSV)</translation>
        </message>
        <message>
            <source>Role</source>
            <translation>Role</translation>
        </message>
        <message>
            <source>ID number (12 digits)</source>
            <translation>ID number (12 digits)</translation>
        </message>
        <message>
            <source>PIN (4-8 digits)</source>
            <translation>PIN (4-8 digits)</translation>
        </message>
        <message>
            <source>Administrator</source>
            <translation>Administrator</translation>
        </message>
        <message>
            <source>Add account</source>
            <translation>Add account</translation>
        </message>
        <message>
            <source>Disable</source>
            <translation>Disable</translation>
        </message>
        <message>
            <source>Enable</source>
            <translation>Enable</translation>
        </message>
        <message>
            <source>Reset PIN</source>
            <translation>Reset PIN</translation>
        </message>
        <message>
            <source>Queue</source>
            <translation>Queue</translation>
        </message>
        <message>
            <source>Manual entry</source>
            <translation>Manual entry</translation>
        </message>
        <message>
            <source>Stays</source>
            <translation>Stays</translation>
        </message>
        <message>
            <source>Status</source>
            <translation>Status</translation>
        </message>
        <message>
            <source>Staff</source>
            <translation>Staff</translation>
        </message>
        <message>
            <source>Lock</source>
            <translation>Lock</translation>
        </message>
        <message>
            <source>Sex</source>
            <translation>Sex</translation>
        </message>
        <message>
            <source>Male</source>
            <translation>Male</translation>
        </message>
        <message>
            <source>Female</source>
            <translation>Female</translation>
        </message>
        <message>
            <source>Reception console</source>
            <translation>Reception console</translation>
        </message>
        <message>
            <source>Not possible: {detail}</source>
            <translation>Not possible: {detail}</translation>
        </message>
        <message>
            <source>Something went wrong; the details are in the log.</source>
            <translation>Something went wrong; the details are in the log.</translation>
        </message>
        <message>
            <source>No staff accounts yet: create one with 'kiosk staff add --admin'.</source>
            <translation>No staff accounts yet: create one with 'kiosk staff add --admin'.</translation>
        </message>
        <message>
            <source>Stays ({count}!)</source>
            <translation>Stays ({count}!)</translation>
        </message>
        <message>
            <source>The chip photo cannot be shown here</source>
            <translation>The chip photo cannot be shown here</translation>
        </message>
        <message>
            <source>Nobody is waiting.</source>
            <translation>Nobody is waiting.</translation>
        </message>
        <message>
            <source>Date of birth (yyyy-mm-dd)</source>
            <translation>Date of birth (yyyy-mm-dd)</translation>
        </message>
        <message>
            <source>Sex (male/female)</source>
            <translation>Sex (male/female)</translation>
        </message>
        <message>
            <source>Corrected number {number}; the change is recorded with your name.</source>
            <translation>Corrected number {number}; the change is recorded with your name.</translation>
        </message>
        <message>
            <source>Service added to number {number}.</source>
            <translation>Service added to number {number}.</translation>
        </message>
        <message>
            <source>The printer is not working ({reason}).</source>
            <translation>The printer is not working ({reason}).</translation>
        </message>
        <message>
            <source>Ticket {number} printed again.</source>
            <translation>Ticket {number} printed again.</translation>
        </message>
        <message>
            <source>Not saved: {detail}</source>
            <translation>Not saved: {detail}</translation>
        </message>
        <message>
            <source>Number {number} for {name}.</source>
            <translation>Number {number} for {name}.</translation>
        </message>
        <message>
            <source>Overdue</source>
            <translation>Overdue</translation>
        </message>
        <message>
            <source>{count} stay notification(s) due within an hour!</source>
            <translation>{count} stay notification(s) due within an hour!</translation>
        </message>
        <message>
            <source>Stay started; the notification is due by {deadline}.</source>
            <translation>Stay started; the notification is due by {deadline}.</translation>
        </message>
        <message>
            <source>Choose a stay notification first.</source>
            <translation>Choose a stay notification first.</translation>
        </message>
        <message>
            <source>Connected</source>
            <translation>Connected</translation>
        </message>
        <message>
            <source>Not connected</source>
            <translation>Not connected</translation>
        </message>
        <message>
            <source>Sync stopped: the hub no longer accepts this kiosk. Nothing is lost; call the technician to enrol it again.</source>
            <translation>Sync stopped: the hub no longer accepts this kiosk. Nothing is lost; call the technician to enrol it again.</translation>
        </message>
        <message>
            <source>{count} records were refused by the hub: submit them by hand and record the receipt.</source>
            <translation>{count} records were refused by the hub: submit them by hand and record the receipt.</translation>
        </message>
        <message>
            <source>The QR scanner is in keyboard mode, which cannot read Vietnamese: switch it to serial (USB COM) mode.</source>
            <translation>The QR scanner is in keyboard mode, which cannot read Vietnamese: switch it to serial (USB COM) mode.</translation>
        </message>
        <message>
            <source>Waiting to sync: {queued} · last success: {when}</source>
            <translation>Waiting to sync: {queued} · last success: {when}</translation>
        </message>
        <message>
            <source>Insurance list of: {date} · visits not verified today: {pending}</source>
            <translation>Insurance list of: {date} · visits not verified today: {pending}</translation>
        </message>
        <message>
            <source>Clock synchronised</source>
            <translation>Clock synchronised</translation>
        </message>
        <message>
            <source>Clock NOT synchronised: times may be wrong</source>
            <translation>Clock NOT synchronised: times may be wrong</translation>
        </message>
        <message>
            <source>The online lookup is not reachable now; try later.</source>
            <translation>The online lookup is not reachable now; try later.</translation>
        </message>
        <message>
            <source>Online re-check is not available on this kiosk yet.</source>
            <translation>Online re-check is not available on this kiosk yet.</translation>
        </message>
        <message>
            <source>Re-checked {count} visit(s).</source>
            <translation>Re-checked {count} visit(s).</translation>
        </message>
        <message>
            <source>Visits today: {count}</source>
            <translation>Visits today: {count}</translation>
        </message>
        <message>
            <source>Exported {rows} visit(s) to {path}; the export is recorded.</source>
            <translation>Exported {rows} visit(s) to {path}; the export is recorded.</translation>
        </message>
        <message>
            <source>Receptionist</source>
            <translation>Receptionist</translation>
        </message>
        <message>
            <source>Disabled</source>
            <translation>Disabled</translation>
        </message>
        <message>
            <source>Active</source>
            <translation>Active</translation>
        </message>
        <message>
            <source>Account added.</source>
            <translation>Account added.</translation>
        </message>
        <message>
            <source>Choose an account first.</source>
            <translation>Choose an account first.</translation>
        </message>
        <message>
            <source>Account updated.</source>
            <translation>Account updated.</translation>
        </message>
        <message>
            <source>Calling number {number}.</source>
            <translation>Calling number {number}.</translation>
        </message>
        <message>
            <source>Number {number} is done.</source>
            <translation>Number {number} is done.</translation>
        </message>
        <message>
            <source>Number {number} marked as left.</source>
            <translation>Number {number} marked as left.</translation>
        </message>
        <message>
            <source>Number {number} cancelled.</source>
            <translation>Number {number} cancelled.</translation>
        </message>
        <message>
            <source>Number {number} is waiting again.</source>
            <translation>Number {number} is waiting again.</translation>
        </message>
        <message>
            <source>Waiting to send</source>
            <translation>Waiting to send</translation>
        </message>
        <message>
            <source>Sent</source>
            <translation>Sent</translation>
        </message>
        <message>
            <source>Acknowledged</source>
            <translation>Acknowledged</translation>
        </message>
        <message>
            <source>Submit by hand</source>
            <translation>Submit by hand</translation>
        </message>
        <message>
            <source>Receipt recorded</source>
            <translation>Receipt recorded</translation>
        </message>
        <message>
            <source>Receipt recorded; the queued notification will not be sent twice.</source>
            <translation>Receipt recorded; the queued notification will not be sent twice.</translation>
        </message>
        <message>
            <source>Receipt recorded.</source>
            <translation>Receipt recorded.</translation>
        </message>
        <message>
            <source>Receipt recorded, but the kiosk had already sent it: tell the police desk it was submitted twice.</source>
            <translation>Receipt recorded, but the kiosk had already sent it: tell the police desk it was submitted twice.</translation>
        </message>
        <message>
            <source>Your health-insurance card has expired.</source>
            <translation>Your health-insurance card has expired.</translation>
        </message>
        <message>
            <source>Your health-insurance card has been revoked.</source>
            <translation>Your health-insurance card has been revoked.</translation>
        </message>
        <message>
            <source>Your health-insurance card is no longer active.</source>
            <translation>Your health-insurance card is no longer active.</translation>
        </message>
        <message>
            <source>Your card was not found in the insurance records.</source>
            <translation>Your card was not found in the insurance records.</translation>
        </message>
        <message>
            <source>The name on your card does not match the insurance records.</source>
            <translation>The name on your card does not match the insurance records.</translation>
        </message>
        <message>
            <source>The date of birth on your card does not match the insurance records.</source>
            <translation>The date of birth on your card does not match the insurance records.</translation>
        </message>
        <message>
            <source>Your card is registered at a facility in another province.</source>
            <translation>Your card is registered at a facility in another province.</translation>
        </message>
        <message>
            <source>Covered by health insurance at {percent}%</source>
            <translation>Covered by health insurance at {percent}%</translation>
        </message>
        <message>
            <source>Covered by health insurance</source>
            <translation>Covered by health insurance</translation>
        </message>
        <message>
            <source>We cannot check your health insurance right now</source>
            <translation>We cannot check your health insurance right now</translation>
        </message>
        <message>
            <source>You will be seen as usual; the receptionist will check it later.</source>
            <translation>You will be seen as usual; the receptionist will check it later.</translation>
        </message>
        <message>
            <source>Not covered by health insurance</source>
            <translation>Not covered by health insurance</translation>
        </message>
        <message>
            <source>The insurance check did not succeed.</source>
            <translation>The insurance check did not succeed.</translation>
        </message>
        <message>
            <source>You can still be seen. Please ask the receptionist about payment.</source>
            <translation>You can still be seen. Please ask the receptionist about payment.</translation>
        </message>
        <message>
            <source>Checked against the insurance list of {date}</source>
            <translation>Checked against the insurance list of {date}</translation>
        </message>
        <message>
            <source>Checked online at {time}</source>
            <translation>Checked online at {time}</translation>
        </message>
        <message>
            <source>Not checked yet (no connection)</source>
            <translation>Not checked yet (no connection)</translation>
        </message>
        <message>
            <source>Other language</source>
            <translation>Tiếng Việt</translation>
        </message>
        <message>
            <source>Welcome</source>
            <translation>Welcome</translation>
        </message>
        <message>
            <source>Scan the QR code on your ID card or place the card on the reader</source>
            <translation>Scan the QR code on your ID card or place the card on the reader</translation>
        </message>
        <message>
            <source>QR code: hold it under the scanner</source>
            <translation>QR code: hold it under the scanner</translation>
        </message>
        <message>
            <source>Chip card: lay it flat on the reader</source>
            <translation>Chip card: lay it flat on the reader</translation>
        </message>
        <message>
            <source>Reading your card…</source>
            <translation>Reading your card…</translation>
        </message>
        <message>
            <source>Hold the card still on the reader until this finishes</source>
            <translation>Hold the card still on the reader until this finishes</translation>
        </message>
        <message>
            <source>Place your card on the reader</source>
            <translation>Place your card on the reader</translation>
        </message>
        <message>
            <source>Reading the chip confirms your identity. You can also skip this step.</source>
            <translation>Reading the chip confirms your identity. You can also skip this step.</translation>
        </message>
        <message>
            <source>Skip</source>
            <translation>Skip</translation>
        </message>
        <message>
            <source>Your details</source>
            <translation>Your details</translation>
        </message>
        <message>
            <source>Choose a service:</source>
            <translation>Choose a service:</translation>
        </message>
        <message>
            <source>This is not me</source>
            <translation>This is not me</translation>
        </message>
        <message>
            <source>You already have a number today</source>
            <translation>You already have a number today</translation>
        </message>
        <message>
            <source>ID number: {masked}</source>
            <translation>ID number: {masked}</translation>
        </message>
        <message>
            <source>The device clock is not set; the staff will check the time.</source>
            <translation>The device clock is not set; the staff will check the time.</translation>
        </message>
        <message>
            <source>Your ID card has expired: you are checked in, but please renew it soon.</source>
            <translation>Your ID card has expired: you are checked in, but please renew it soon.</translation>
        </message>
        <message>
            <source>Your queue number</source>
            <translation>Your queue number</translation>
        </message>
        <message>
            <source>Please take your ticket and wait until your number is called</source>
            <translation>Please take your ticket and wait until your number is called</translation>
        </message>
        <message>
            <source>Finish</source>
            <translation>Finish</translation>
        </message>
        <message>
            <source>We could not read this code</source>
            <translation>We could not read this code</translation>
        </message>
        <message>
            <source>Show the QR code on the front of your ID card or health-insurance card, held still under the scanner. If it still does not work, please ask the receptionist.</source>
            <translation>Show the QR code on the front of your ID card or health-insurance card, held still under the scanner. If it still does not work, please ask the receptionist.</translation>
        </message>
        <message>
            <source>This card has no ID number</source>
            <translation>This card has no ID number</translation>
        </message>
        <message>
            <source>Please use your ID card, or ask the receptionist for help.</source>
            <translation>Please use your ID card, or ask the receptionist for help.</translation>
        </message>
        <message>
            <source>The kiosk could not save your check-in</source>
            <translation>The kiosk could not save your check-in</translation>
        </message>
        <message>
            <source>Nothing is wrong with your card. Please ask the receptionist to check you in.</source>
            <translation>Nothing is wrong with your card. Please ask the receptionist to check you in.</translation>
        </message>
        <message>
            <source>The card was moved before we finished</source>
            <translation>The card was moved before we finished</translation>
        </message>
        <message>
            <source>Place the card flat on the reader again and keep it still until the screen changes.</source>
            <translation>Place the card flat on the reader again and keep it still until the screen changes.</translation>
        </message>
        <message>
            <source>Please scan the QR code on your card first</source>
            <translation>Please scan the QR code on your card first</translation>
        </message>
        <message>
            <source>Hold the QR code on the front of the card under the scanner, then place the card on the reader.</source>
            <translation>Hold the QR code on the front of the card under the scanner, then place the card on the reader.</translation>
        </message>
        <message>
            <source>We could not read this card's chip</source>
            <translation>We could not read this card's chip</translation>
        </message>
        <message>
            <source>Please scan the QR code on the card instead, or ask the receptionist.</source>
            <translation>Please scan the QR code on the card instead, or ask the receptionist.</translation>
        </message>
        <message>
            <source>The card reader is not working</source>
            <translation>The card reader is not working</translation>
        </message>
        <message>
            <source>Please use the QR scanner, or ask the receptionist for help.</source>
            <translation>Please use the QR scanner, or ask the receptionist for help.</translation>
        </message>
        <message>
            <source>The ticket printer is not working</source>
            <translation>The ticket printer is not working</translation>
        </message>
        <message>
            <source>Please remember your number shown here and tell the receptionist.</source>
            <translation>Please remember your number shown here and tell the receptionist.</translation>
        </message>
        <message>
            <source>The ticket printer is out of paper</source>
            <translation>The ticket printer is out of paper</translation>
        </message>
        <message>
            <source>OK</source>
            <translation>OK</translation>
        </message>
        <message>
            <source>Your details — confirmed by the card's chip</source>
            <translation>Your details — confirmed by the card's chip</translation>
        </message>
        <message>
            <source>The QR scanner is not working: please ask the receptionist</source>
            <translation>The QR scanner is not working: please ask the receptionist</translation>
        </message>
        <message>
            <source>The chip card reader is not working: please use the QR code</source>
            <translation>The chip card reader is not working: please use the QR code</translation>
        </message>
        <message>
            <source>A device is not working: please ask the receptionist</source>
            <translation>A device is not working: please ask the receptionist</translation>
        </message>
        <message>
            <source>PIN not accepted. Too many wrong PINs lock the account for a while; if it keeps failing, ask the administrator.</source>
            <translation>PIN not accepted. Too many wrong PINs lock the account for a while; if it keeps failing, ask the administrator.</translation>
        </message>
        <message>
            <source>An administrator's PIN is at least 6 digits.</source>
            <translation>An administrator's PIN is at least 6 digits.</translation>
        </message>
        <message>
            <source>That PIN is too easy to guess (repeated digits or a run). Choose another.</source>
            <translation>That PIN is too easy to guess (repeated digits or a run). Choose another.</translation>
        </message>
        <message>
            <source>A PIN may not be a birth date. Choose another.</source>
            <translation>A PIN may not be a birth date. Choose another.</translation>
        </message>
        <message>
            <source>That PIN is one of the most common ones. Choose another.</source>
            <translation>That PIN is one of the most common ones. Choose another.</translation>
        </message>
    </context>
</TS>
