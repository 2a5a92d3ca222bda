"""Password hashing (argon2id via argon2-cffi) and the rules for usernames and passwords."""

from __future__ import annotations

import re
from functools import lru_cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,38}$")
RESERVED = {"admin", "api", "login", "logout", "signup", "settings", "static", "papers"}


@lru_cache(maxsize=4)
def hasher(profile: str = "RFC_9106_LOW_MEMORY") -> PasswordHasher:
    """The argon2id hasher for a named ``argon2.profiles`` parameter set."""
    params = getattr(profiles, profile.upper(), None)
    if params is None:
        raise ValueError(f"unknown argon2 profile {profile!r} (see argon2.profiles)")
    return PasswordHasher.from_parameters(params)


def hash_password(password: str, profile: str = "RFC_9106_LOW_MEMORY") -> str:
    return hasher(profile).hash(password)


def verify_password(
    stored: str | None, password: str, profile: str = "RFC_9106_LOW_MEMORY"
) -> bool:
    """True if ``password`` matches; an unknown user (``stored`` None) costs the same time."""
    h = hasher(profile)
    try:
        return h.verify(stored or _dummy(profile), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str, profile: str = "RFC_9106_LOW_MEMORY") -> bool:
    return hasher(profile).check_needs_rehash(stored)


@lru_cache(maxsize=4)
def _dummy(profile: str) -> str:
    return hasher(profile).hash("paperwire: no such user")


def username_problem(username: str) -> str | None:
    if not USERNAME.match(username):
        return (
            "A username is 2 to 39 letters, digits, '-', '_' or '.', starting with a letter "
            "or digit."
        )
    if username.lower() in RESERVED:
        return f"The username {username!r} is reserved; pick another."
    return None


def email_problem(email: str) -> str | None:
    """What is wrong with an account's email address (already stripped and lowercased)."""
    from paperwire.ui.forms import EMAIL  # the digest form's rule, so both agree

    if len(email) > 254 or not EMAIL.match(email):
        return f"{email[:100]!r} is not an email address."
    return None


def password_problem(password: str, username: str = "") -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"A password needs at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"A password has at most {MAX_PASSWORD} characters."
    if username and password.lower() == username.lower():
        return "The password cannot be the username."
    return None
