"""Sub-commands of the ``openisp`` CLI; see :mod:`openisp.cli`."""
