"""Publishing: DOIs for published items (a registrar port, local and DataCite adapters) and
citation metadata in the formats reference managers, indexers and harvesters read."""
