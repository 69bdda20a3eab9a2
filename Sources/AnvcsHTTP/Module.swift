// AnvcsHTTP: see README.md beside this file.
