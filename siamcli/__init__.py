"""siamcli: one-shot enroll/verify with Siamese networks, for faces and sounds."""

__version__ = "0.1.0"
