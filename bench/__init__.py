"""The storefront's load benchmark, `make bench` (`python -m bench`); not part of the tests."""
