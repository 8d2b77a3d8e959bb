"""Project checks run by ``make check``."""
