// AnvcsGit: see README.md beside this file.
