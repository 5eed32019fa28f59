"""Subnet and NAT layout of the VPC, as pure functions.

Each availability zone owns a fixed slot of the VPC CIDR, chosen by its letter (`...-1a` is
slot 0, `...-1c` slot 2), never by its position in a list: adding an AZ, or dropping one, never
renumbers a subnet that exists. A /16 VPC has 8 slots of /19; in each slot the private
(workload) subnet takes half, because every pod takes a VPC address, and the public and
isolated (data) subnets an eighth each; the last quarter is kept for a future tier.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

SLOT_LETTERS = "abcdefgh"
TIERS = ("public", "private", "isolated")
NAT_MODES = ("single", "perAz")
_SLOT_BITS = 3  # 2**3 == len(SLOT_LETTERS)


@dataclass(frozen=True)
class SubnetPlan:
    az: str
    tier: str
    cidr: str


def az_slot(az: str) -> int:
    """'us-east-1c' -> 2."""
    letter = az[-1:]
    if not az[:-1] or letter not in SLOT_LETTERS:
        raise ValueError(f"availability zone must end in one of the letters {SLOT_LETTERS}, "
                         f"got {az!r}")
    return SLOT_LETTERS.index(letter)


def tier_cidrs(vpc_cidr: str, az: str) -> dict[str, str]:
    """The public, private and isolated CIDRs of one AZ's slot."""
    vpc = ipaddress.IPv4Network(vpc_cidr, strict=True)
    slot = list(vpc.subnets(prefixlen_diff=_SLOT_BITS))[az_slot(az)]
    private, rest = slot.subnets(prefixlen_diff=1)
    public, isolated, _reserved_a, _reserved_b = rest.subnets(prefixlen_diff=2)
    return {"public": str(public), "private": str(private), "isolated": str(isolated)}


def plan_subnets(vpc_cidr: str, azs: Sequence[str]) -> list[SubnetPlan]:
    """Every subnet, by AZ then tier."""
    if len(set(azs)) != len(azs):
        raise ValueError(f"availability zones must not repeat, got {list(azs)}")
    return [
        SubnetPlan(az, tier, cidr)
        for az in azs
        for tier, cidr in tier_cidrs(vpc_cidr, az).items()
    ]


def choose_azs(available: Sequence[str], count: int) -> list[str]:
    """The first `count` zones in name order, so the choice is stable as AWS adds zones."""
    usable = sorted(az for az in available if az[-1:] in SLOT_LETTERS)
    if len(usable) < count:
        raise ValueError(f"az_count must not exceed the {len(usable)} zones available "
                         f"({', '.join(usable)}), got {count}")
    return usable[:count]


def nat_azs(azs: Sequence[str], nat_mode: str) -> list[str]:
    """The zones that hold a NAT gateway."""
    return list(azs) if nat_mode == "perAz" else list(azs[:1])


def nat_az_for(az: str, azs: Sequence[str], nat_mode: str) -> str:
    """The zone whose NAT gateway a private subnet in `az` sends its internet traffic to."""
    return az if nat_mode == "perAz" else azs[0]
