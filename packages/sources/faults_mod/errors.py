"""faults_mod.errors: an exception class defined inside the archive."""


class BadThing(Exception):
    pass
