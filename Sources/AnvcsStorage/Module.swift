// AnvcsStorage: see README.md beside this file.
