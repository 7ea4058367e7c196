"""The dashboard's pages: each module only lays out what data, tables and charts provide."""
