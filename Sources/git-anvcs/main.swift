import AnvcsCommands
AnvcsMain.main()
