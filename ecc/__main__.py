from ecc.cli import main

raise SystemExit(main())
