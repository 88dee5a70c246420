// kubectl built from the published k8s.io/kubectl module, for the tests that need the real
// plugin discovery and plugin completion (kubectl_complete-<plugin>). Mirrors
// k8s.io/kubernetes/cmd/kubectl/kubectl.go, which is only a thin wrapper over these calls.
package main

import (
	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
)

func main() {
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		util.CheckErr(err)
	}
}
