from sgdlearn._demo import main

main()
