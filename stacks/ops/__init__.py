"""Day-2 operations on a deployed stack, ``python -m stacks ops ...``: ``base`` reads the
stack's outputs and turns AWS failures into one-line errors, ``actions`` holds the commands
(RDS snapshot, point-in-time restore, static upload, ECR report) and ``command`` parses the
arguments and opens the boto3 session. It talks to AWS through boto3 and imports nothing else
of ``stacks`` or ``components``: it works on any deployed stack's outputs, not on the program.
"""
