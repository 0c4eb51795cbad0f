"""The kiosk application of the system test bed: a terminal's own Python software."""
VERSION = "@VERSION@"
