// AnvcsConfig: see README.md beside this file.
