"""How a stack is put together, and the tools around it (``python -m stacks ...``).

``compose`` wires the components of ``components/`` into a stack from the typed settings of
``settings``. Around it, one subpackage per concern: ``settings`` (Pulumi config in, typed
settings out), ``plan`` (the mock engine and the offline plan), ``review`` (plan diffs),
``previews`` (preview environments), ``policy`` (the rules) and ``ops`` (day-2 commands on a
deployed stack). A subpackage's ``command`` module is its ``python -m stacks`` entry point;
``__main__`` only gathers them. Imports run one way, from the commands down to ``compose``,
``settings``, ``policy`` and ``components``; ``git`` is the one helper shared by ``review``
and ``previews``.
"""
