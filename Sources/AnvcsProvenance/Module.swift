// AnvcsProvenance: see README.md beside this file.
