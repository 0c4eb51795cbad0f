"""Cash dispenser plugin."""


def describe():
    return "cash-1"
