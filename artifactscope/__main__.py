from artifactscope.cli import main

raise SystemExit(main())
