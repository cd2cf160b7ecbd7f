// The JIT profile starts here, not in CommandLine.Run: the tests call Run in their own process, whose JIT is not ld's.
if (args.Length > 0 && LayerDiffusion.Native.Cli.CommandLine.Computes(args[0]))
    LayerDiffusion.Native.Cli.JitProfile.Start(args[0]);
return LayerDiffusion.Native.Cli.CommandLine.Run(args);
