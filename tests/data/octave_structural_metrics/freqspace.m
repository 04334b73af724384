function [f1, f2] = freqspace(n, flag)
  % MATLAB's documented 2-output meshgrid rule (shim as in the golden README).
  f1 = ((0:n(2)-1) - floor(n(2)/2)) * (2/n(2));
  f2 = ((0:n(1)-1) - floor(n(1)/2)) * (2/n(1));
  [f1, f2] = meshgrid(f1, f2);
end
