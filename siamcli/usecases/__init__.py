"""Use cases: one module per thing a user does (fit, evaluate, calibrate, enroll, verify, embed), each
one entry function with typed arguments. The command line and the Python API (`import siamcli`)
both call these; nothing here prints."""
