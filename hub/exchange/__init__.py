"""What flows between the hub, the departments and the townships after a ledger is in: data
versions, report snapshots served as content-addressed files and the changes feed (数据订阅,
docs/exchange.md); resubmissions and 待核实 residents (departures.py); department feedback and what
flows back to the townships (feedback.py)."""
