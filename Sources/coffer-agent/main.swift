import CofferAgent

// PID 1 of a Coffer VM. Everything lives in CofferAgent so that it can be tested and measured.
Agent.main()
