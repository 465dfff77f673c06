from llm_extract.cli import main

main()
