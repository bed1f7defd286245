"""Package paths as docs/package-format.md §1 defines them, one rule for both verifiers here
(a package and a Periodic Review Report list their files alike)."""


def safe(path: str) -> bool:
    """A package path: relative, `/`-separated, no empty, `.` or `..` segment, no backslash,
    colon or control character (Unicode category Cc: U+0000–U+001F, U+007F–U+009F), at most
    1,024 bytes of UTF-8. Text that is not Unicode (a lone surrogate) is not a path."""
    try:
        size = len(path.encode("utf-8"))
    except UnicodeEncodeError:
        return False
    return (
        0 < size <= 1024
        and not path.startswith("/")
        and not any(c in path for c in "\\:")
        and not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in path)
        and all(s not in ("", ".", "..") for s in path.split("/"))
    )
