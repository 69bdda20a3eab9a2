import AnvcsMergeTool

MergeEngineMain.main()
