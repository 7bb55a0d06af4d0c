"""HL7 FHIR R4 on the hub (docs/fhir.md): resources built from the visits the kiosks sent, read and searched by
the stations' medical software (HIS clients), each scoped to the facilities it serves."""
