"""Exchange with departments: data versions, report snapshots served as content-addressed files,
and the changes feed (数据订阅). See docs/exchange.md."""
