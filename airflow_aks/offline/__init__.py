"""The offline layer: plan engine (Pulumi's mock engine), plan diff, chart render, policy
report and the test harness."""
