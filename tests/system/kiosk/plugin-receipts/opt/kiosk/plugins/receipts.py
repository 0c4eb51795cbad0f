"""Receipt printer plugin (added by the 1.1 update)."""


def describe():
    return "receipts-1"
