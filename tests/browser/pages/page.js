window.kernelScriptRan = true;
