// RFC 8785 exports; filled in by the canonical JSON work.
