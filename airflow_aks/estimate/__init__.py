"""Estimates over a plan: monthly cost, the dated price table and its refresh, first-deploy time."""
