"""What flows between the hub, the departments and the townships after a ledger is in."""
