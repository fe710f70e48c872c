from tieviz.cli import main

raise SystemExit(main())
