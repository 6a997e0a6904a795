"""Tests of zkpot.availability that need no chain.

The contract tests are tests/contracts/test_zkpot_availability.py.
"""
