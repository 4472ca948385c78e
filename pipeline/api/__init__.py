"""The analysts search API, web page and CLI, with roles and an audit trail."""
