"""`python3 -m student_cni`: what the lab's /opt/cni/bin/kubelab-student runs on every node."""

from student_cni.plugin import main

main()
