<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="vi_VN">
<context>
    <name></name>
    <message>
        <source>Waiting</source>
        <translation>Đang chờ</translation>
    </message>
    <message>
        <source>Being seen</source>
        <translation>Đang khám</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>Đã khám xong</translation>
    </message>
    <message>
        <source>Left</source>
        <translation>Đã bỏ về</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Đã hủy</translation>
    </message>
    <message>
        <source>Covered</source>
        <translation>Có BHYT</translation>
    </message>
    <message>
        <source>Not covered</source>
        <translation>Không hưởng BHYT</translation>
    </message>
    <message>
        <source>Not verified</source>
        <translation>Chưa xác minh</translation>
    </message>
    <message>
        <source>Choose your name first.</source>
        <translation>Hãy chọn tên của bạn trước.</translation>
    </message>
    <message>
        <source>That change is not possible for this visit.</source>
        <translation>Không thể thay đổi như vậy cho lượt khám này.</translation>
    </message>
    <message>
        <source>That field cannot be corrected here.</source>
        <translation>Không thể sửa mục này ở đây.</translation>
    </message>
    <message>
        <source>The name cannot be empty.</source>
        <translation>Họ tên không được để trống.</translation>
    </message>
    <message>
        <source>Enter male or female.</source>
        <translation>Nhập nam hoặc nữ.</translation>
    </message>
    <message>
        <source>Choose a visit first.</source>
        <translation>Hãy chọn một lượt khám trước.</translation>
    </message>
    <message>
        <source>Choose a service.</source>
        <translation>Hãy chọn một dịch vụ.</translation>
    </message>
    <message>
        <source>Only an administrator can do this.</source>
        <translation>Chỉ quản trị viên mới làm được việc này.</translation>
    </message>
    <message>
        <source>A PIN is 4 to 8 digits.</source>
        <translation>Mã PIN gồm 4 đến 8 chữ số.</translation>
    </message>
    <message>
        <source>An ID number is 12 digits.</source>
        <translation>Số định danh gồm 12 chữ số.</translation>
    </message>
    <message>
        <source>This ID number already has an account.</source>
        <translation>Số định danh này đã có tài khoản.</translation>
    </message>
    <message>
        <source>You cannot disable your own account.</source>
        <translation>Bạn không thể vô hiệu hóa tài khoản của chính mình.</translation>
    </message>
    <message>
        <source>Enter the date as yyyy-mm-dd.</source>
        <translation>Nhập ngày theo dạng yyyy-mm-dd.</translation>
    </message>
    <message>
        <source>The ID number must be 12 digits.</source>
        <translation>Số định danh phải gồm 12 chữ số.</translation>
    </message>
    <message>
        <source>The health-insurance number must be 15 characters or 10 digits.</source>
        <translation>Mã thẻ BHYT phải gồm 15 ký tự hoặc 10 chữ số.</translation>
    </message>
    <message>
        <source>The passport number must be 6 to 9 letters or digits.</source>
        <translation>Số hộ chiếu phải gồm 6 đến 9 chữ cái hoặc chữ số.</translation>
    </message>
    <message>
        <source>The nationality must be a 3-letter code, e.g. FRA.</source>
        <translation>Quốc tịch phải là mã 3 chữ cái, ví dụ FRA.</translation>
    </message>
    <message>
        <source>Enter the name as on the card (letters only).</source>
        <translation>Nhập họ tên như trên thẻ (chỉ chữ cái).</translation>
    </message>
    <message>
        <source>Enter the date of birth as dd/mm/yyyy.</source>
        <translation>Nhập ngày sinh theo dạng dd/mm/yyyy.</translation>
    </message>
    <message>
        <source>Choose the sex.</source>
        <translation>Hãy chọn giới tính.</translation>
    </message>
    <message>
        <source>Scanned again with another name or birth date: check the ID card</source>
        <translation>Quét lại với họ tên hoặc ngày sinh khác: hãy kiểm tra thẻ căn cước</translation>
    </message>
    <message>
        <source>The chip failed its clone check: check the ID card</source>
        <translation>Chip không qua kiểm tra chống sao chép: hãy kiểm tra thẻ căn cước</translation>
    </message>
    <message>
        <source>The chip data did not verify: check the ID card</source>
        <translation>Dữ liệu chip không xác thực được: hãy kiểm tra thẻ căn cước</translation>
    </message>
    <message>
        <source>Receptionist sign-in</source>
        <translation>Đăng nhập tiếp đón</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>Xóa</translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation>Đăng nhập</translation>
    </message>
    <message>
        <source>Search by name, ID or number</source>
        <translation>Tìm theo tên, số định danh hoặc số thứ tự</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>Tìm</translation>
    </message>
    <message>
        <source>No.</source>
        <translation>STT</translation>
    </message>
    <message>
        <source>State</source>
        <translation>Trạng thái</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Họ tên</translation>
    </message>
    <message>
        <source>ID</source>
        <translation>Số định danh</translation>
    </message>
    <message>
        <source>Services</source>
        <translation>Dịch vụ</translation>
    </message>
    <message>
        <source>Insurance</source>
        <translation>BHYT</translation>
    </message>
    <message>
        <source>Face check</source>
        <translation>Đối chiếu khuôn mặt</translation>
    </message>
    <message>
        <source>Call next</source>
        <translation>Gọi số tiếp</translation>
    </message>
    <message>
        <source>Cancel visit</source>
        <translation>Hủy lượt</translation>
    </message>
    <message>
        <source>Back to waiting</source>
        <translation>Chờ lại</translation>
    </message>
    <message>
        <source>Correct</source>
        <translation>Sửa</translation>
    </message>
    <message>
        <source>Add service</source>
        <translation>Thêm dịch vụ</translation>
    </message>
    <message>
        <source>Reprint</source>
        <translation>In lại</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Lưu</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Đóng</translation>
    </message>
    <message>
        <source>ID number (CCCD)</source>
        <translation>Số định danh (CCCD)</translation>
    </message>
    <message>
        <source>Health-insurance number</source>
        <translation>Mã thẻ BHYT</translation>
    </message>
    <message>
        <source>Passport (foreigner)</source>
        <translation>Hộ chiếu (người nước ngoài)</translation>
    </message>
    <message>
        <source>Manual check-in (card could not be read)</source>
        <translation>Nhập tay (không đọc được thẻ)</translation>
    </message>
    <message>
        <source>Number</source>
        <translation>Số</translation>
    </message>
    <message>
        <source>Full name</source>
        <translation>Họ và tên</translation>
    </message>
    <message>
        <source>Date of birth dd/mm/yyyy</source>
        <translation>Ngày sinh dd/mm/yyyy</translation>
    </message>
    <message>
        <source>Nationality (e.g. FRA)</source>
        <translation>Quốc tịch (vd. FRA)</translation>
    </message>
    <message>
        <source>Check in and print ticket</source>
        <translation>Tiếp nhận và in phiếu</translation>
    </message>
    <message>
        <source>Deadline</source>
        <translation>Hạn báo</translation>
    </message>
    <message>
        <source>Time left</source>
        <translation>Còn lại</translation>
    </message>
    <message>
        <source>Visit</source>
        <translation>Lượt</translation>
    </message>
    <message>
        <source>Queue no.</source>
        <translation>STT</translation>
    </message>
    <message>
        <source>Reason for the stay</source>
        <translation>Lý do lưu trú</translation>
    </message>
    <message>
        <source>From dd/mm/yyyy hh:mm (empty: now)</source>
        <translation>Từ dd/mm/yyyy hh:mm (trống: bây giờ)</translation>
    </message>
    <message>
        <source>Until dd/mm/yyyy hh:mm (optional)</source>
        <translation>Đến dd/mm/yyyy hh:mm (không bắt buộc)</translation>
    </message>
    <message>
        <source>Passport no. (foreigner)</source>
        <translation>Số hộ chiếu (người nước ngoài)</translation>
    </message>
    <message>
        <source>Start stay</source>
        <translation>Bắt đầu lưu trú</translation>
    </message>
    <message>
        <source>Receipt number of a hand submission</source>
        <translation>Số tiếp nhận khi khai báo tay</translation>
    </message>
    <message>
        <source>Record receipt</source>
        <translation>Ghi số tiếp nhận</translation>
    </message>
    <message>
        <source>Chip card reader</source>
        <translation>Đầu đọc thẻ chip</translation>
    </message>
    <message>
        <source>QR scanner</source>
        <translation>Máy quét QR</translation>
    </message>
    <message>
        <source>Camera</source>
        <translation>Camera</translation>
    </message>
    <message>
        <source>Ticket printer</source>
        <translation>Máy in phiếu</translation>
    </message>
    <message>
        <source>Unknown</source>
        <translation>Chưa rõ</translation>
    </message>
    <message>
        <source>Re-check pending insurance online</source>
        <translation>Tra cứu lại BHYT chưa xác minh</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>Làm mới</translation>
    </message>
    <message>
        <source>End of day</source>
        <translation>Cuối ngày</translation>
    </message>
    <message>
        <source>Export today&apos;s list (CSV)</source>
        <translation>Xuất danh sách hôm nay (CSV)</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>Vai trò</translation>
    </message>
    <message>
        <source>ID number (12 digits)</source>
        <translation>Số định danh (12 số)</translation>
    </message>
    <message>
        <source>PIN (4-8 digits)</source>
        <translation>Mã PIN (4-8 số)</translation>
    </message>
    <message>
        <source>Administrator</source>
        <translation>Quản trị viên</translation>
    </message>
    <message>
        <source>Add account</source>
        <translation>Thêm tài khoản</translation>
    </message>
    <message>
        <source>Disable</source>
        <translation>Vô hiệu hóa</translation>
    </message>
    <message>
        <source>Enable</source>
        <translation>Kích hoạt</translation>
    </message>
    <message>
        <source>Reset PIN</source>
        <translation>Đặt lại PIN</translation>
    </message>
    <message>
        <source>Queue</source>
        <translation>Hàng chờ</translation>
    </message>
    <message>
        <source>Manual entry</source>
        <translation>Nhập tay</translation>
    </message>
    <message>
        <source>Stays</source>
        <translation>Lưu trú</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Tình trạng</translation>
    </message>
    <message>
        <source>Staff</source>
        <translation>Nhân viên</translation>
    </message>
    <message>
        <source>Lock</source>
        <translation>Khóa</translation>
    </message>
    <message>
        <source>Sex</source>
        <translation>Giới tính</translation>
    </message>
    <message>
        <source>Male</source>
        <translation>Nam</translation>
    </message>
    <message>
        <source>Female</source>
        <translation>Nữ</translation>
    </message>
    <message>
        <source>Reception console</source>
        <translation>Bàn tiếp đón</translation>
    </message>
    <message>
        <source>Not possible: {detail}</source>
        <translation>Không thực hiện được: {detail}</translation>
    </message>
    <message>
        <source>Something went wrong; the details are in the log.</source>
        <translation>Đã có lỗi; chi tiết ghi trong nhật ký.</translation>
    </message>
    <message>
        <source>No staff accounts yet: create one with &apos;kiosk staff add --admin&apos;.</source>
        <translation>Chưa có tài khoản nhân viên: tạo bằng lệnh &apos;kiosk staff add --admin&apos;.</translation>
    </message>
    <message>
        <source>Stays ({count}!)</source>
        <translation>Lưu trú ({count}!)</translation>
    </message>
    <message>
        <source>The chip photo cannot be shown here</source>
        <translation>Không hiển thị được ảnh trong chip</translation>
    </message>
    <message>
        <source>Nobody is waiting.</source>
        <translation>Không còn ai đang chờ.</translation>
    </message>
    <message>
        <source>Date of birth (yyyy-mm-dd)</source>
        <translation>Ngày sinh (yyyy-mm-dd)</translation>
    </message>
    <message>
        <source>Sex (male/female)</source>
        <translation>Giới tính (male/female)</translation>
    </message>
    <message>
        <source>Corrected number {number}; the change is recorded with your name.</source>
        <translation>Đã sửa số {number}; thay đổi được ghi kèm tên bạn.</translation>
    </message>
    <message>
        <source>Service added to number {number}.</source>
        <translation>Đã thêm dịch vụ cho số {number}.</translation>
    </message>
    <message>
        <source>The printer is not working ({reason}).</source>
        <translation>Máy in không hoạt động ({reason}).</translation>
    </message>
    <message>
        <source>Ticket {number} printed again.</source>
        <translation>Đã in lại phiếu số {number}.</translation>
    </message>
    <message>
        <source>Not saved: {detail}</source>
        <translation>Chưa lưu: {detail}</translation>
    </message>
    <message>
        <source>Number {number} for {name}.</source>
        <translation>Số {number} cho {name}.</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>Quá hạn</translation>
    </message>
    <message>
        <source>{count} stay notification(s) due within an hour!</source>
        <translation>{count} thông báo lưu trú đến hạn trong vòng một giờ!</translation>
    </message>
    <message>
        <source>Stay started; the notification is due by {deadline}.</source>
        <translation>Đã bắt đầu lưu trú; hạn thông báo là {deadline}.</translation>
    </message>
    <message>
        <source>Choose a stay notification first.</source>
        <translation>Hãy chọn một thông báo lưu trú trước.</translation>
    </message>
    <message>
        <source>Connected</source>
        <translation>Đã kết nối</translation>
    </message>
    <message>
        <source>Not connected</source>
        <translation>Chưa kết nối</translation>
    </message>
    <message>
        <source>Sync stopped: the hub no longer accepts this kiosk. Nothing is lost; call the technician to enrol it again.</source>
        <translation>Đồng bộ đã dừng: máy chủ tỉnh không còn chấp nhận máy này. Không mất dữ liệu; hãy gọi kỹ thuật viên để đăng ký lại máy.</translation>
    </message>
    <message>
        <source>{count} records were refused by the hub: submit them by hand and record the receipt.</source>
        <translation>{count} bản ghi bị máy chủ tỉnh từ chối: hãy nộp thủ công và ghi lại số biên nhận.</translation>
    </message>
    <message>
        <source>The QR scanner is in keyboard mode, which cannot read Vietnamese: switch it to serial (USB COM) mode.</source>
        <translation>Máy quét QR đang ở chế độ bàn phím, không đọc được tiếng Việt: hãy chuyển sang chế độ cổng nối tiếp (USB COM).</translation>
    </message>
    <message>
        <source>Waiting to sync: {queued} · last success: {when}</source>
        <translation>Chờ đồng bộ: {queued} · lần thành công gần nhất: {when}</translation>
    </message>
    <message>
        <source>Insurance list of: {date} · visits not verified today: {pending}</source>
        <translation>Danh sách BHYT ngày: {date} · lượt chưa xác minh hôm nay: {pending}</translation>
    </message>
    <message>
        <source>Clock synchronised</source>
        <translation>Đồng hồ đã đồng bộ</translation>
    </message>
    <message>
        <source>Clock NOT synchronised: times may be wrong</source>
        <translation>Đồng hồ CHƯA đồng bộ: giờ có thể sai</translation>
    </message>
    <message>
        <source>The online lookup is not reachable now; try later.</source>
        <translation>Chưa kết nối được cổng tra cứu; hãy thử lại sau.</translation>
    </message>
    <message>
        <source>Online re-check is not available on this kiosk yet.</source>
        <translation>Máy này chưa có chức năng tra cứu lại trực tuyến.</translation>
    </message>
    <message>
        <source>Re-checked {count} visit(s).</source>
        <translation>Đã tra cứu lại {count} lượt.</translation>
    </message>
    <message>
        <source>Visits today: {count}</source>
        <translation>Số lượt hôm nay: {count}</translation>
    </message>
    <message>
        <source>Exported {rows} visit(s) to {path}; the export is recorded.</source>
        <translation>Đã xuất {rows} lượt ra {path}; việc xuất được ghi lại.</translation>
    </message>
    <message>
        <source>Receptionist</source>
        <translation>Tiếp đón</translation>
    </message>
    <message>
        <source>Disabled</source>
        <translation>Đã vô hiệu</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Đang hoạt động</translation>
    </message>
    <message>
        <source>Account added.</source>
        <translation>Đã thêm tài khoản.</translation>
    </message>
    <message>
        <source>Choose an account first.</source>
        <translation>Hãy chọn một tài khoản trước.</translation>
    </message>
    <message>
        <source>Account updated.</source>
        <translation>Đã cập nhật tài khoản.</translation>
    </message>
    <message>
        <source>Calling number {number}.</source>
        <translation>Đang gọi số {number}.</translation>
    </message>
    <message>
        <source>Number {number} is done.</source>
        <translation>Số {number} đã khám xong.</translation>
    </message>
    <message>
        <source>Number {number} marked as left.</source>
        <translation>Số {number} đã bỏ về.</translation>
    </message>
    <message>
        <source>Number {number} cancelled.</source>
        <translation>Đã hủy số {number}.</translation>
    </message>
    <message>
        <source>Number {number} is waiting again.</source>
        <translation>Số {number} chờ lại.</translation>
    </message>
    <message>
        <source>Waiting to send</source>
        <translation>Chờ gửi</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>Đã gửi</translation>
    </message>
    <message>
        <source>Acknowledged</source>
        <translation>Đã tiếp nhận</translation>
    </message>
    <message>
        <source>Submit by hand</source>
        <translation>Cần khai báo tay</translation>
    </message>
    <message>
        <source>Receipt recorded</source>
        <translation>Đã có số tiếp nhận</translation>
    </message>
    <message>
        <source>Receipt recorded; the queued notification will not be sent twice.</source>
        <translation>Đã ghi số tiếp nhận; thông báo đang chờ sẽ không gửi lần hai.</translation>
    </message>
    <message>
        <source>Receipt recorded.</source>
        <translation>Đã ghi số tiếp nhận.</translation>
    </message>
    <message>
        <source>Receipt recorded, but the kiosk had already sent it: tell the police desk it was submitted twice.</source>
        <translation>Đã ghi số tiếp nhận, nhưng máy đã gửi thông báo này: hãy báo công an là đã khai báo hai lần.</translation>
    </message>
    <message>
        <source>Your health-insurance card has expired.</source>
        <translation>Thẻ BHYT của bạn đã hết hạn.</translation>
    </message>
    <message>
        <source>Your health-insurance card has been revoked.</source>
        <translation>Thẻ BHYT của bạn đã bị thu hồi.</translation>
    </message>
    <message>
        <source>Your health-insurance card is no longer active.</source>
        <translation>Thẻ BHYT của bạn không còn hiệu lực.</translation>
    </message>
    <message>
        <source>Your card was not found in the insurance records.</source>
        <translation>Không tìm thấy thẻ của bạn trong dữ liệu BHYT.</translation>
    </message>
    <message>
        <source>The name on your card does not match the insurance records.</source>
        <translation>Họ tên trên thẻ không khớp với dữ liệu BHYT.</translation>
    </message>
    <message>
        <source>The date of birth on your card does not match the insurance records.</source>
        <translation>Ngày sinh trên thẻ không khớp với dữ liệu BHYT.</translation>
    </message>
    <message>
        <source>Your card is registered at a facility in another province.</source>
        <translation>Thẻ của bạn đăng ký khám ở cơ sở tỉnh khác.</translation>
    </message>
    <message>
        <source>Covered by health insurance at {percent}%</source>
        <translation>Được hưởng BHYT {percent}%</translation>
    </message>
    <message>
        <source>Covered by health insurance</source>
        <translation>Được hưởng BHYT</translation>
    </message>
    <message>
        <source>We cannot check your health insurance right now</source>
        <translation>Chưa kiểm tra được BHYT của bạn lúc này</translation>
    </message>
    <message>
        <source>You will be seen as usual; the receptionist will check it later.</source>
        <translation>Bạn vẫn được khám như bình thường; nhân viên sẽ kiểm tra lại sau.</translation>
    </message>
    <message>
        <source>Not covered by health insurance</source>
        <translation>Không được hưởng BHYT</translation>
    </message>
    <message>
        <source>The insurance check did not succeed.</source>
        <translation>Kiểm tra BHYT không thành công.</translation>
    </message>
    <message>
        <source>You can still be seen. Please ask the receptionist about payment.</source>
        <translation>Bạn vẫn được khám. Vui lòng hỏi nhân viên tiếp đón về chi phí.</translation>
    </message>
    <message>
        <source>Checked against the insurance list of {date}</source>
        <translation>Theo danh sách BHYT ngày {date}</translation>
    </message>
    <message>
        <source>Checked online at {time}</source>
        <translation>Tra cứu trực tuyến lúc {time}</translation>
    </message>
    <message>
        <source>Not checked yet (no connection)</source>
        <translation>Chưa tra cứu được (không có kết nối)</translation>
    </message>
    <message>
        <source>Other language</source>
        <translation>English</translation>
    </message>
    <message>
        <source>Welcome</source>
        <translation>Xin chào</translation>
    </message>
    <message>
        <source>Scan the QR code on your ID card or place the card on the reader</source>
        <translation>Quét mã QR trên thẻ CCCD hoặc đặt thẻ lên đầu đọc</translation>
    </message>
    <message>
        <source>QR code: hold it under the scanner</source>
        <translation>Mã QR: đưa vào dưới máy quét</translation>
    </message>
    <message>
        <source>Chip card: lay it flat on the reader</source>
        <translation>Thẻ có chip: đặt nằm phẳng trên đầu đọc</translation>
    </message>
    <message>
        <source>Reading your card…</source>
        <translation>Đang đọc thẻ…</translation>
    </message>
    <message>
        <source>Hold the card still on the reader until this finishes</source>
        <translation>Giữ yên thẻ trên đầu đọc đến khi xong</translation>
    </message>
    <message>
        <source>Place your card on the reader</source>
        <translation>Đặt thẻ lên đầu đọc</translation>
    </message>
    <message>
        <source>Reading the chip confirms your identity. You can also skip this step.</source>
        <translation>Đọc chip giúp xác thực danh tính. Bạn cũng có thể bỏ qua bước này.</translation>
    </message>
    <message>
        <source>Skip</source>
        <translation>Bỏ qua</translation>
    </message>
    <message>
        <source>Your details</source>
        <translation>Thông tin của bạn</translation>
    </message>
    <message>
        <source>Choose a service:</source>
        <translation>Chọn dịch vụ:</translation>
    </message>
    <message>
        <source>This is not me</source>
        <translation>Đây không phải tôi</translation>
    </message>
    <message>
        <source>You already have a number today</source>
        <translation>Hôm nay bạn đã lấy số</translation>
    </message>
    <message>
        <source>ID number: {masked}</source>
        <translation>Số định danh: {masked}</translation>
    </message>
    <message>
        <source>The device clock is not set; the staff will check the time.</source>
        <translation>Đồng hồ máy chưa đúng; nhân viên sẽ kiểm tra lại giờ.</translation>
    </message>
    <message>
        <source>Your ID card has expired: you are checked in, but please renew it soon.</source>
        <translation>Thẻ căn cước của bạn đã hết hạn: bạn vẫn được tiếp nhận, nhưng vui lòng sớm làm lại thẻ.</translation>
    </message>
    <message>
        <source>Your queue number</source>
        <translation>Số thứ tự của bạn</translation>
    </message>
    <message>
        <source>Please take your ticket and wait until your number is called</source>
        <translation>Vui lòng nhận phiếu và chờ gọi số</translation>
    </message>
    <message>
        <source>Finish</source>
        <translation>Xong</translation>
    </message>
    <message>
        <source>We could not read this code</source>
        <translation>Không đọc được mã này</translation>
    </message>
    <message>
        <source>Show the QR code on the front of your ID card or health-insurance card, held still under the scanner. If it still does not work, please ask the receptionist.</source>
        <translation>Đưa mã QR ở mặt trước thẻ CCCD hoặc thẻ BHYT vào dưới máy quét và giữ yên. Nếu vẫn không được, vui lòng gặp nhân viên tiếp đón.</translation>
    </message>
    <message>
        <source>This card has no ID number</source>
        <translation>Thẻ này không có số định danh</translation>
    </message>
    <message>
        <source>Please use your ID card, or ask the receptionist for help.</source>
        <translation>Vui lòng dùng thẻ CCCD hoặc nhờ nhân viên tiếp đón giúp.</translation>
    </message>
    <message>
        <source>The kiosk could not save your check-in</source>
        <translation>Máy chưa lưu được lượt đăng ký của bạn</translation>
    </message>
    <message>
        <source>Nothing is wrong with your card. Please ask the receptionist to check you in.</source>
        <translation>Thẻ của bạn không có vấn đề. Vui lòng gặp nhân viên tiếp đón để đăng ký.</translation>
    </message>
    <message>
        <source>The card was moved before we finished</source>
        <translation>Thẻ bị dịch chuyển trước khi đọc xong</translation>
    </message>
    <message>
        <source>Place the card flat on the reader again and keep it still until the screen changes.</source>
        <translation>Đặt lại thẻ nằm phẳng trên đầu đọc và giữ yên đến khi màn hình thay đổi.</translation>
    </message>
    <message>
        <source>Please scan the QR code on your card first</source>
        <translation>Vui lòng quét mã QR trên thẻ trước</translation>
    </message>
    <message>
        <source>Hold the QR code on the front of the card under the scanner, then place the card on the reader.</source>
        <translation>Đưa mã QR ở mặt trước thẻ vào dưới máy quét, sau đó đặt thẻ lên đầu đọc.</translation>
    </message>
    <message>
        <source>We could not read this card&apos;s chip</source>
        <translation>Không đọc được chip của thẻ này</translation>
    </message>
    <message>
        <source>Please scan the QR code on the card instead, or ask the receptionist.</source>
        <translation>Vui lòng quét mã QR trên thẻ, hoặc gặp nhân viên tiếp đón.</translation>
    </message>
    <message>
        <source>The card reader is not working</source>
        <translation>Đầu đọc thẻ không hoạt động</translation>
    </message>
    <message>
        <source>Please use the QR scanner, or ask the receptionist for help.</source>
        <translation>Vui lòng dùng máy quét QR hoặc nhờ nhân viên tiếp đón giúp.</translation>
    </message>
    <message>
        <source>The ticket printer is not working</source>
        <translation>Máy in phiếu không hoạt động</translation>
    </message>
    <message>
        <source>Please remember your number shown here and tell the receptionist.</source>
        <translation>Vui lòng nhớ số hiện trên màn hình và báo nhân viên tiếp đón.</translation>
    </message>
    <message>
        <source>The ticket printer is out of paper</source>
        <translation>Máy in phiếu hết giấy</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>Đồng ý</translation>
    </message>
    <message>
        <source>Your details — confirmed by the card&apos;s chip</source>
        <translation>Thông tin của bạn — đã xác thực bằng chip trên thẻ</translation>
    </message>
    <message>
        <source>The QR scanner is not working: please ask the receptionist</source>
        <translation>Máy quét QR không hoạt động: vui lòng gặp nhân viên tiếp đón</translation>
    </message>
    <message>
        <source>The chip card reader is not working: please use the QR code</source>
        <translation>Đầu đọc thẻ chip không hoạt động: vui lòng quét mã QR</translation>
    </message>
    <message>
        <source>A device is not working: please ask the receptionist</source>
        <translation>Có thiết bị không hoạt động: vui lòng gặp nhân viên tiếp đón</translation>
    </message>
    <message>
        <source>PIN not accepted. Too many wrong PINs lock the account for a while; if it keeps failing, ask the administrator.</source>
        <translation>Mã PIN không được chấp nhận. Nhập sai nhiều lần sẽ khóa tài khoản một thời gian; nếu vẫn không được, hãy hỏi quản trị viên.</translation>
    </message>
    <message>
        <source>An administrator&apos;s PIN is at least 6 digits.</source>
        <translation>Mã PIN của quản trị viên phải có ít nhất 6 chữ số.</translation>
    </message>
    <message>
        <source>That PIN is too easy to guess (repeated digits or a run). Choose another.</source>
        <translation>Mã PIN này quá dễ đoán (lặp lại chữ số hoặc dãy liên tiếp). Hãy chọn mã khác.</translation>
    </message>
    <message>
        <source>A PIN may not be a birth date. Choose another.</source>
        <translation>Mã PIN không được là ngày sinh. Hãy chọn mã khác.</translation>
    </message>
    <message>
        <source>That PIN is one of the most common ones. Choose another.</source>
        <translation>Mã PIN này thuộc loại phổ biến nhất. Hãy chọn mã khác.</translation>
    </message>
</context>
</TS>
