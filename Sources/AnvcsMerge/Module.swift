// AnvcsMerge: see README.md beside this file.
