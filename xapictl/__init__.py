"""xapictl: typed, idempotent, plan-before-apply networking for XenServer / XCP-ng and plain Xen.

The library entry point is ``xapictl.connect``; the CLI is ``xapictl``. Nothing heavy is imported
here so that ``xapictl --help`` stays fast.
"""

from xapictl._version import __version__

__all__ = ["__version__"]
