from nomtui.cli import main

main()
