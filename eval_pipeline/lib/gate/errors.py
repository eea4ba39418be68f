"""The one error of the release gate that is not a verdict."""


class GateSetupError(Exception):
    """The gate cannot decide: a usage or set-up problem (no dataset, too few records, a candidate that
    cannot be loaded or reached, judges that cannot run). The message says what to do; the CLI exits 2."""
