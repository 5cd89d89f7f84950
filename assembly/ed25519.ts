// Ed25519 (RFC 8032 §5.1) exports; filled in by the Ed25519 core work.
