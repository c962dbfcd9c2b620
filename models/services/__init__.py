"""Write services: validate, write in one transaction, bump the data revision, record an audit entry."""
