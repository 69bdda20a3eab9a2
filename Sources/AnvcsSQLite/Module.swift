// AnvcsSQLite: see README.md beside this file.
