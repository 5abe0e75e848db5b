"""External data -> GenTool records: DESIGN §2 records, pair records, xLAM and ShareGPT files.

Each import builds the four toolset variants the simulator builds and runs its leakage check;
the entry point is `formats.import_file`. Plain Python and NumPy only, like simulate/.
"""
