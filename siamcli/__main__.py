from siamcli.cli import main

main()
