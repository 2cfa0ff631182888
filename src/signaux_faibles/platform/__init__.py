"""The confidential collaborative platform: database, access policy, web and API."""
