// AnvcsCRDT: see README.md beside this file.
